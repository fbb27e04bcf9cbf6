"""Completion of entity identifiers from impCentral: the index Tab reads (`index`) and the
background fill that keeps the entity cache and the index current (`refresher`)."""
