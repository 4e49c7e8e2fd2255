"""The reader: a MiniLM model we train (``training/reader/``) that finds the exact answer span in a sentence and says
whether the sentence answers the question at all. Run time uses ``model`` and ``decode`` only."""
