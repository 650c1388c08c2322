"""The site's side of full-text search: documents from listings, the engine, the page and the API."""
