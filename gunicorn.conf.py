"""gunicorn settings for production (read from the working directory: `gunicorn 'market:create_app()'`).

The site's search and filter links carry Chinese text, percent-encoded (9 bytes a character): allow
request lines up to gunicorn's maximum; longer ones get a 414, as the API document says.
"""

limit_request_line = 8190
# A request waits at most DB_BUSY_TIMEOUT (10 s) for the embedded database's write lock.
timeout = 60
