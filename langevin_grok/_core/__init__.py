"""The ground floor: errors and status codes, input checks for public entry points, JSON conversion,
units and provenance. Imports nothing else of the package."""
