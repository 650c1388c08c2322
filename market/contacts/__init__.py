"""Who sees whose contact details, and the record of every reveal: one policy above listings and
matches (a listing's contact opens to its owner, to administrators and verified agents, and to the
other side of a match an agent introduced)."""
