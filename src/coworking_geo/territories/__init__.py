"""Communes, their classification, the code crosswalk and the territory setting."""
