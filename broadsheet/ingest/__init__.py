"""Getting papers in: arXiv dumps and listings, Hugging Face, metadata rules, full text."""
