"""Training the reader: pairs, the training loop, master weights and export. Imported by nothing at run time."""
