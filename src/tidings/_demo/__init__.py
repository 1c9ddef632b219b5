"""Private building blocks of the synthetic collection generator (:mod:`tidings.demo`).

``vocab`` holds the neutral word lists and names, ``frame`` turns column arrays into canonical
posts, ``population`` makes the accounts, ``organic`` the background, ``planted`` the labelled
activity and ``series`` the traffic series. Nothing here is public API.
"""
