"""Supervised few-shot meta-learning on the shared MAML core: sinusoid regression and
N-way K-shot image classification (Omniglot or any folder of class sub-folders), with an
Adam outer loop and the MAML++ options. Tasks of a meta-batch are adapted in one graph."""
