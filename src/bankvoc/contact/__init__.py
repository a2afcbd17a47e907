"""The contact centre: interactions, their operational KPIs and the quality inspection (智能质检)
of every call's transcript."""
