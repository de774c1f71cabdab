"""Views shared by handlers and the delivery code: cards, keyboards and texts built from rows, one
module per capability."""
