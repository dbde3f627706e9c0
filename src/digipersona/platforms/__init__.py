"""Social platforms: one provider per network behind one interface (see base.py)."""
