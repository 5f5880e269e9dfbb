"""Current weather for HomeIQ automations, published on MQTT."""
