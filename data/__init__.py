"""The data layer: peewee models, database binding, migrations, demo data."""
