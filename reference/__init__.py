"""The bundled reference WebSocket manager (``websocket_manager``) and its tests."""
