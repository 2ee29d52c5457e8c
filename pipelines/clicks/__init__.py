"""embedrec.pipelines.clicks."""
