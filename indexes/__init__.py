"""embedrec indexes package."""
