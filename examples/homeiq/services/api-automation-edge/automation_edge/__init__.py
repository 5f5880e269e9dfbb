"""Edge dispatcher: validated automation commands out to devices, acknowledgements back."""
