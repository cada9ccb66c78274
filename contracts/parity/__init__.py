"""`contracts parity`: re-send a snapshot's requests to a service and score how alike its answers are."""
