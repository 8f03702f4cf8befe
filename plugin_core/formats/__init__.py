"""Reading and writing ThinkFamily's own formats: contact and decision JSON, stored JSON, OperationOutcome."""
