"""Generation providers: ``template`` (offline), ``openai`` (Chat Completions), ``anthropic``."""
