from sentibot.cli import main

raise SystemExit(main())
