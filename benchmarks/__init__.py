"""Benchmarks: events_async against raw aiohttp + orjson and twilio-python, side by side."""
