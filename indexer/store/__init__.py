"""Storage backends behind one contract (``indexer.store.base.Store``)."""
