"""The pure counting core: no Django, no database, no I/O beyond what a function is handed."""
