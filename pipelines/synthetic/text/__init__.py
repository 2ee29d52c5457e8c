"""embedrec.pipelines.synthetic.text."""
