"""Blinker signals between features, so that `listings` never imports the features that react."""

from blinker import Namespace

_signals = Namespace()

#: sent with (session, interest, listing, user) inside the transaction that records the interest
interest_expressed = _signals.signal("interest-expressed")

#: sent with (session) after `flask seed demo` committed new data; search and matching rebuild
demo_loaded = _signals.signal("demo-loaded")
