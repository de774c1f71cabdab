"""Views (cards, keyboards, texts built from rows) shared by the handlers and the delivery code, one
module per capability."""
