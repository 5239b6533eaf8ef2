"""Early warning: the rules, the nightly sweep that opens and closes warnings with their tasks,
the retention actions, the warnings page and the rules page."""
