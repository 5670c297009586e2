// Deterministic output for every test: no colour, a fixed width, no debug noise.
process.env.FORCE_COLOR = '0'
process.env.NO_COLOR = '1'
process.env.COLUMNS = '120'
delete process.env.DEBUG
