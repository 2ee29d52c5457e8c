"""embedrec.pipelines.text."""
