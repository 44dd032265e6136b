"""The gate edge process: capture → detect → read → track/vote → publish.

One module per step, joined by the frozen dataclasses of `edge.types`; the detector and the
recognizer sit behind small protocols so models swap by configuration, not by code.
"""
