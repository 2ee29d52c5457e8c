"""embedrec.pipelines.synthetic.clicks."""
