"""Stackyard: forty backend services on one shared kernel."""
