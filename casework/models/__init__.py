from .organisations import Municipality, Organisation, Role, Sector, User

__all__ = ["Municipality", "Organisation", "Role", "Sector", "User"]
