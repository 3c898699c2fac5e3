"""`sm-mlops preview`: Studio's Create-project form and the architecture, drawn from the template itself."""
