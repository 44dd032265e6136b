"""dealergate: licence-plate arrivals turned into insurance-renewal conversations.

The shared package holds what edge and server both need: the plate rules (`plates`), the MQTT
event contract (`contract`), the synthetic data generators (`synth`) and the command line (`cli`).
"""

__version__ = "0.1.0"
