"""Mouth cues for animators: timed mouth shapes (Rhubarb A-H, X) from speech, and their exports."""
