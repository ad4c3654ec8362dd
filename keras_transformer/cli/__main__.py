from keras_transformer.cli import main

raise SystemExit(main())
