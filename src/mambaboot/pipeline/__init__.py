"""The steps of create and adopt: plan, engine run, finish, verify, provision."""
