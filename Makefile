# Set-up and everyday commands. `make serve` and `make test` are the two README commands.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup serve test test-all browser-deps ui-screens lint bench squad fuzz docs clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# The CPU build of torch first, so nothing later pulls the CUDA packages.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

serve: $(STAMP)
	$(BIN)/qa serve --host $${QA_HOST:-127.0.0.1} --port $${QA_PORT:-8000}

browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq chromium chromium-driver >/dev/null; fi; }

test: $(STAMP) browser-deps
	$(BIN)/ruff check .
	$(BIN)/mypy index qa api
	$(BIN)/pytest -q

# The page's browser tests, saving a 256-colour PNG of every state they reach into eval/reports/ui/ (look at each).
ui-screens: $(STAMP) browser-deps
	QA_SAVE_UI_SCREENS=1 $(BIN)/pytest -q tests/e2e/test_page_conversation.py tests/e2e/test_page_documents.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy qa index api eval

# Schemathesis, every check, 200 examples per operation against a real `qa serve` (3 to 6 minutes; `make test`
# runs the same with 25). QA_FUZZ_EXAMPLES and QA_FUZZ_SEED change the count and the seed.
fuzz: $(STAMP)
	QA_FUZZ_EXAMPLES=$${QA_FUZZ_EXAMPLES:-200} $(BIN)/pytest tests/reliability/test_schemathesis.py -q -k every_schemathesis_check

squad: $(STAMP)
	$(BIN)/python -m eval.quality.squad --out eval/reports/squad

# The figures in README.md and the model card, rewritten from the committed reports in eval/reports/ (the tests fail
# when they are stale: tests/test_docs_figures.py).
docs: $(STAMP)
	$(BIN)/cog -r -I . README.md qa/reader/weights/MODEL_CARD.md

bench: $(STAMP)
	$(BIN)/python -m eval.bench.perf

clean:
	rm -rf .qa-index .pytest_cache
