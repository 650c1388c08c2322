"""Home page, health check and the template context."""
