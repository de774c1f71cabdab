"""Joint positions (advocacy, issue 18): drafts and publishing (`drafts`), the organizations asked
and their admins' answers (`endorsements`), what a member may see (`visibility`), members'
signatures given with consent (`signatures`), and the submission at the deadline: PDF, CSV and
XLSX (`submission`, `document`)."""
