"""Views shared by handlers and the delivery code: cards, keyboards and texts built from rows,
one module per capability (`bot.views.events`, ...). Handler-only views live in `handlers/<cap>/views.py`.
"""
