"""Quality evals: how right the answers, citations, retrieval and abstention are (seed eval set, SQuAD, HTML
extraction, the reader on gold paragraphs). See eval/README.md."""
