-- Reserved: filled in by the change that adds this part of the workspace.
SELECT 1;
