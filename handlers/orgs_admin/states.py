"""The typed steps of organization management (persisted by name: never rename them)."""

from aiogram.fsm.state import State, StatesGroup


class OrgAdminStates(StatesGroup):
    new_name = State()  # a new organization's name
    translation = State()  # the composer kit: a translation's texts
    edit_value = State()  # the composer kit: a field's new value (name, description, contact, cities)
    countries = State()  # a country name, to add it
    zone_country = State()  # a country name, to pick the time zone among its zones
    quiet_hours = State()
    logo = State()  # a photo
