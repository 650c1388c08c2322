"""Blinker signals between features, so that `listings` never imports the features that react."""

from blinker import Namespace

_signals = Namespace()

#: sent with (session, interest, listing, user) inside the transaction that records the interest
interest_expressed = _signals.signal("interest-expressed")
