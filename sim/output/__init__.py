"""Tables, run results, the files a run writes, its report and its folder read back."""
