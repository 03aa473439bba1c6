"""The local AWS's S3: the delete-marker events moto does not send (delete_markers.py)."""
