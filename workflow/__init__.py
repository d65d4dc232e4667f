"""How a proposal's life is lived: models, sessions' engines, the machine, guards, audit and services.

Every service takes a SQLAlchemy session as its first argument and never opens one itself.
"""
