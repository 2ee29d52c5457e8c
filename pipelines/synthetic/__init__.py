"""embedrec.pipelines.synthetic."""
