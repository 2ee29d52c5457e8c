"""embedrec.pipelines.runtime."""
