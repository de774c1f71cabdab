"""The bot's HTTP side: the webhook (with its inbox), `/healthz`, `/metrics` and members'
calendar feeds, served by one aiohttp application per process (`bot.web.server`)."""
