"""Provider adapters: each turns one structured request into one reply over its real SDK."""
